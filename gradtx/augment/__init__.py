"""Image augmentation: pure ``(key, image) -> image`` functions on one HWC image.

Batch them with :func:`batch` (``jax.vmap`` over split keys: every image its
own random draw), compose them with :func:`chain`, and jit them with the
training step. Float images hold values in [0, 1], uint8 images 0..255; each
function returns the input's dtype and range. Shapes (crop sizes, padding)
are static Python ints; random decisions are traced, never Python ``if``.
"""

from gradtx.augment._color import adjust_hue as adjust_hue
from gradtx.augment._color import adjust_saturation as adjust_saturation
from gradtx.augment._color import random_hue as random_hue
from gradtx.augment._color import random_saturation as random_saturation
from gradtx.augment._compose import batch as batch
from gradtx.augment._compose import chain as chain
from gradtx.augment._compose import random_apply as random_apply
from gradtx.augment._compose import random_choice as random_choice
from gradtx.augment._geometry import center_crop as center_crop
from gradtx.augment._geometry import flip_left_right as flip_left_right
from gradtx.augment._geometry import flip_up_down as flip_up_down
from gradtx.augment._geometry import pad_to_size as pad_to_size
from gradtx.augment._geometry import random_crop as random_crop
from gradtx.augment._geometry import random_flip_left_right as random_flip_left_right
from gradtx.augment._geometry import random_flip_up_down as random_flip_up_down
from gradtx.augment._geometry import rot90 as rot90
from gradtx.augment._mix import cutmix as cutmix
from gradtx.augment._mix import cutout as cutout
from gradtx.augment._mix import mixup as mixup
from gradtx.augment._resample import random_affine as random_affine
from gradtx.augment._resample import random_rotation as random_rotation
from gradtx.augment._resample import rotate as rotate
from gradtx.augment._tone import adjust_brightness as adjust_brightness
from gradtx.augment._tone import adjust_contrast as adjust_contrast
from gradtx.augment._tone import adjust_gamma as adjust_gamma
from gradtx.augment._tone import gaussian_noise as gaussian_noise
from gradtx.augment._tone import normalize as normalize
from gradtx.augment._tone import random_brightness as random_brightness
from gradtx.augment._tone import random_contrast as random_contrast
from gradtx.augment._tone import random_gamma as random_gamma

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "adjust_hue",
    "adjust_saturation",
    "batch",
    "center_crop",
    "chain",
    "cutmix",
    "cutout",
    "flip_left_right",
    "flip_up_down",
    "gaussian_noise",
    "mixup",
    "normalize",
    "pad_to_size",
    "random_affine",
    "random_apply",
    "random_brightness",
    "random_choice",
    "random_contrast",
    "random_crop",
    "random_flip_left_right",
    "random_flip_up_down",
    "random_gamma",
    "random_hue",
    "random_rotation",
    "random_saturation",
    "rot90",
    "rotate",
]
