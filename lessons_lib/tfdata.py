"""How NumPy arrays reach ``fit``, ``evaluate`` and ``predict``: without tf.data's autotuner.

Keras (TensorFlow backend) turns the arrays a lesson passes to ``model.fit(x, y, ...)``
into a tf.data pipeline (``ArrayDataAdapter.get_tf_dataset``) and makes a new iterator over
it for every epoch, for the validation pass and for each ``evaluate`` or ``predict``. With
tf.data's autotuning on (its default), every iterator starts a thread that wakes up to
re-tune the pipeline, sleeping a little longer each time (20 ms, 40 ms, ... seconds). When
the iterator is dropped, TensorFlow waits for that thread to finish its sleep. On a machine
with more cores than busy threads that wait is hidden; on one core (Binder, ``taskset -c 0``)
it is not: the core sits idle at every epoch boundary and after the last epoch.

Measured on one core of this project's machine (``benchmarks/bench_autotune.py``, results in
``benchmarks/results/autotune-onecore.json``): lesson 07's CNN, 4 epochs on full MNIST, spent
a third of its wall time idle with Keras' pipeline as it is; with the autotuner off its wall
time equals its CPU time, and the weights and every figure come out identical (the pipeline
only slices arrays; what the autotuner would tune is how many slices are prepared ahead).

:func:`install` wraps ``get_tf_dataset`` so the pipeline it returns has
``options.autotune.enabled = False``. ``lessons_lib.models`` calls it on import, so every
lesson that builds or loads a model through the library gets it, and so does a learner's own
``model.fit`` on arrays in the same kernel. Datasets a learner builds with ``tf.data`` are
left as they are. :func:`uninstall` puts Keras back (the benchmark compares the two in one
process).
"""

from __future__ import annotations

import functools

MARK = "_lessons_autotune_off"


def _adapter():
    """Keras' array adapter class, or None when this Keras keeps it elsewhere."""
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:
        return None
    return ArrayDataAdapter if callable(getattr(ArrayDataAdapter, "get_tf_dataset", None)) else None


def installed() -> bool:
    """Whether the arrays' pipeline is built with autotuning off."""
    cls = _adapter()
    return cls is not None and getattr(cls.get_tf_dataset, MARK, False)


def install() -> bool:
    """Build Keras' pipeline for arrays with tf.data autotuning off. Idempotent.

    Returns True when it is in place, False when this Keras has no ``ArrayDataAdapter`` to
    wrap (then nothing changes: training is as fast as Keras makes it, and
    ``tests/test_tfdata.py`` fails, so the project learns of it)."""
    cls = _adapter()
    if cls is None:
        return False
    if installed():
        return True
    original = cls.get_tf_dataset

    @functools.wraps(original)
    def get_tf_dataset(self):
        import tensorflow as tf

        options = tf.data.Options()
        options.autotune.enabled = False
        return original(self).with_options(options)

    setattr(get_tf_dataset, MARK, True)
    cls.get_tf_dataset = get_tf_dataset
    return True


def uninstall() -> None:
    """Give Keras its own pipeline back (for side-by-side measurements)."""
    cls = _adapter()
    if cls is not None and installed():
        cls.get_tf_dataset = cls.get_tf_dataset.__wrapped__
