"""Lesson 03's exercises, in the notebook's order: parameters of a dense layer, the untrained loss,
build the network."""

from __future__ import annotations

import math

from .core import CheckResult, Exercise, Slip, check, close_scalar, describe, number

PARAMS = Exercise(
    "03",
    "params",
    "count what one unit owns: something for each of its inputs, and one thing of its own. "
    "Then count the units.",
)
INITIAL_LOSS = Exercise(
    "03",
    "initial_loss",
    "the loss of one image is minus the natural log of the probability given to its true digit; "
    "what is that probability when every digit gets the same share?",
)
MODEL = Exercise(
    "03",
    "model",
    "follow the pattern of the network built above: an input of the flattened size, a hidden "
    "Dense layer, and an output layer whose activation turns scores into probabilities.",
)


@check(PARAMS)
def check_dense_params(answer, inputs: int, units: int) -> CheckResult:
    right = inputs * units + units
    slips = [
        Slip(
            f"{inputs} x {units}, the weights alone",
            inputs * units,
            "each unit also has a bias.",
        ),
        Slip(
            f"{inputs} + {units}",
            inputs + units,
            "a dense layer connects every input to every unit: multiply, do not add.",
        ),
        Slip(
            f"({inputs} + 1) x ({units} + 1)",
            (inputs + 1) * (units + 1),
            "the bias belongs to the units only: one bias per unit, no extra unit.",
        ),
        Slip(
            f"{inputs} x {units} + 1",
            inputs * units + 1,
            f"that gives the whole layer one bias; each of the {units} units has its own.",
        ),
        Slip(
            f"{inputs} x {units} + {inputs}",
            inputs * units + inputs,
            "that gives each input a bias; the biases belong to the units, one per unit.",
        ),
        Slip(
            "the number of units",
            units,
            "that counts the units (and their biases); each unit also has a weight per input.",
        ),
        Slip(
            "the number of inputs",
            inputs,
            "that counts the inputs; each of them is connected to every unit.",
        ),
    ]
    return PARAMS.judge_number(
        answer,
        right,
        f"{number(inputs)} x {units} weights + {units} biases = {number(right)}.",
        slips,
        whole=True,
    )


def _activation(layer) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "") or ""


@check(MODEL)
def check_model(model) -> CheckResult:
    import keras

    if isinstance(model, type):
        return MODEL.wrong(
            f"that is {describe(model)}; call it to make a model: keras.Sequential([...layers...])."
        )
    if isinstance(model, (list, tuple)):
        return MODEL.wrong(
            f"that is {describe(model)}; wrap the list of layers in keras.Sequential(...) "
            "to make a model."
        )
    if isinstance(model, keras.layers.Layer) and not isinstance(model, keras.Model):
        return MODEL.wrong(
            f"that is one layer ({type(model).__name__}); a model stacks several: "
            "keras.Sequential([...])."
        )
    if not isinstance(model, keras.Model):
        return MODEL.wrong(f"that is {describe(model)}, not a Keras model.", hint=True)
    try:
        in_shape = tuple(model.inputs[0].shape)
        out_shape = tuple(model.outputs[0].shape)
    except (AttributeError, IndexError, ValueError, TypeError):
        return MODEL.wrong(
            "the model has no input shape yet; start it with keras.Input, shaped like one "
            "flattened image."
        )
    if in_shape[1:] != (784,):
        return MODEL.wrong(
            f"the model takes input of shape {in_shape[1:]}; the flattened images are (784,)."
        )
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    if out_shape[1:] != (10,):
        return MODEL.wrong(
            f"the last layer has {out_shape[-1]} units; there are 10 digits, so it needs 10."
        )
    if len(dense) < 2:
        return MODEL.wrong(
            "there is no hidden layer: put a Dense layer with ReLU before the output layer."
        )
    # softmax as the last Dense's activation, or as a Softmax / Activation layer after it
    after = layers[layers.index(dense[-1]) + 1 :]
    softmax_after = any(
        isinstance(layer, keras.layers.Softmax) or _activation(layer) == "softmax"
        for layer in after
    )
    last_act = _activation(dense[-1])
    if last_act != "softmax" and not softmax_after:
        return MODEL.wrong(
            f"the output layer's activation is '{last_act}', so its outputs are not "
            "probabilities; give it the activation that makes ten probabilities."
        )
    hidden = dense[:-1]
    if len(hidden) == 2 and all(layer.units == 64 for layer in hidden):
        return MODEL.wrong(
            "two hidden Dense(64) layers: that is the reference project's network, which lesson "
            "02 trains. This exercise asks for a smaller one, with a single hidden Dense(64)."
        )
    if len(hidden) > 1:
        return MODEL.wrong(
            f"{len(hidden)} hidden Dense layers; the exercise asks for one, of 64 units."
        )
    act, units = _activation(hidden[0]), hidden[0].units
    if act == "linear":
        return MODEL.wrong(
            "the hidden layer has no activation: stacked linear layers are still one linear "
            "map. Give it activation='relu'."
        )
    if act != "relu":
        return MODEL.wrong(f"the hidden layer's activation is '{act}'; the exercise asks for ReLU.")
    if units != 64:
        return MODEL.wrong(f"the hidden layer has {units} units; the exercise asks for 64.")
    return MODEL.right(
        f"one hidden layer of 64 ReLU units, softmax over 10 digits, "
        f"{number(model.count_params())} parameters."
    )


@check(INITIAL_LOSS)
def check_initial_loss(answer, measured: float | None = None) -> CheckResult:
    right = math.log(10)
    slips = [
        Slip("log10(10)", 1.0, "that is the log in base 10; cross-entropy uses the natural log."),
        Slip(
            "ln(1/10), without the minus",
            -right,
            "the loss is minus the log of the probability, so it is positive.",
        ),
        Slip("1/10, the probability of each digit", 0.1, "the loss is minus the log of it."),
        Slip(
            "log2(10)",
            math.log2(10),
            "that uses the log in base 2; Keras uses the natural log.",
        ),
        Slip(
            "the number of classes",
            10,
            "the loss is minus the log of the probability each digit gets, not the count.",
        ),
        Slip(
            "log10(1/10)",
            -1.0,
            "that is the log in base 10 without the minus: cross-entropy is minus the natural log.",
        ),
    ]
    if measured is not None:
        slips.append(
            Slip(
                "the loss this untrained network measured",
                float(measured),
                "its random weights give some digits more than 1/10; the question asks the loss "
                "of a network that gives every digit exactly 1/10.",
            )
        )
    return INITIAL_LOSS.judge_number(
        answer,
        right,
        f"-ln(1/10) = ln 10 = {right:.3f}.",
        slips,
        whole=False,
        close=close_scalar(abs_=0.01),
    )
