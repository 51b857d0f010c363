"""Every check of a hyperparameter or an argument, in one convention.

Each check takes the name of the public function it runs for and the
argument's name, and every message starts with ``"{fn}: {name} ..."``:
``adam: b2 must be in [0, 1), got 1.5.`` A function that builds others from its
own arguments names itself around that work (:func:`named`), so the message
names the function the user called, not a building block deep inside.

Concrete values are checked at once; tracers (inside ``jit``/``vmap``/``grad``)
cannot be without a host round trip, so they are let through, and the code
that uses them turns an invalid one into NaN where it can. Tree checks run on
static structure, shapes and dtypes: at trace time, once per compilation.
"""

from gradtx._internal.validate._arrays import axis_index_groups as axis_index_groups
from gradtx._internal.validate._arrays import image as image
from gradtx._internal.validate._arrays import image_size as image_size
from gradtx._internal.validate._arrays import images as images
from gradtx._internal.validate._arrays import mask as mask
from gradtx._internal.validate._arrays import per_channel as per_channel
from gradtx._internal.validate._caller import error as error
from gradtx._internal.validate._caller import named as named
from gradtx._internal.validate._caller import who as who
from gradtx._internal.validate._kinds import axes as axes
from gradtx._internal.validate._kinds import axis as axis
from gradtx._internal.validate._kinds import choice as choice
from gradtx._internal.validate._kinds import dtype as dtype
from gradtx._internal.validate._kinds import key as key
from gradtx._internal.validate._kinds import lookup as lookup
from gradtx._internal.validate._kinds import sequence as sequence
from gradtx._internal.validate._loss_inputs import as_array as as_array
from gradtx._internal.validate._loss_inputs import fits_shape as fits_shape
from gradtx._internal.validate._loss_inputs import floating as floating
from gradtx._internal.validate._loss_inputs import integral as integral
from gradtx._internal.validate._loss_inputs import where_mask as where_mask
from gradtx._internal.validate._numbers import boolean as boolean
from gradtx._internal.validate._numbers import concrete_float as concrete_float
from gradtx._internal.validate._numbers import finite as finite
from gradtx._internal.validate._numbers import integer as integer
from gradtx._internal.validate._numbers import interval as interval
from gradtx._internal.validate._numbers import is_concrete as is_concrete
from gradtx._internal.validate._numbers import number as number
from gradtx._internal.validate._numbers import optional_number as optional_number
from gradtx._internal.validate._numbers import plain_number as plain_number
from gradtx._internal.validate._numbers import sample_range as sample_range
from gradtx._internal.validate._schedules import scheduled_value as scheduled_value
from gradtx._internal.validate._schedules import step_boundaries as step_boundaries
from gradtx._internal.validate._trees import mask_tree as mask_tree
from gradtx._internal.validate._trees import params as params
from gradtx._internal.validate._trees import spec as spec
from gradtx._internal.validate._trees import tree_matches as tree_matches
from gradtx._internal.validate._trees import updates as updates

__all__ = [
    "as_array",
    "axes",
    "axis",
    "axis_index_groups",
    "boolean",
    "choice",
    "concrete_float",
    "dtype",
    "error",
    "finite",
    "fits_shape",
    "floating",
    "image",
    "image_size",
    "images",
    "integer",
    "integral",
    "interval",
    "is_concrete",
    "key",
    "lookup",
    "mask",
    "mask_tree",
    "named",
    "number",
    "optional_number",
    "params",
    "per_channel",
    "plain_number",
    "sample_range",
    "scheduled_value",
    "sequence",
    "spec",
    "step_boundaries",
    "tree_matches",
    "updates",
    "where_mask",
    "who",
]
