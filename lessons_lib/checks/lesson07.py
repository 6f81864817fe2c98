"""Lesson 07's exercises: size after a convolution, parameters of a convolution."""

from __future__ import annotations

from .core import CheckResult, Exercise, Refusal, Slip, check, number

CONV_OUTPUT = Exercise(
    "07",
    "conv_output",
    "slide the window along one side a pixel at a time: in how many places does it fit "
    "entirely inside the image? Try it on a small case, a 3-wide window on a 4-wide image.",
)
CONV_PARAMS = Exercise(
    "07",
    "conv_params",
    "count what one filter owns: a weight for each cell of its window on each input channel, "
    "and a bias. Then count the filters.",
)


@check(CONV_OUTPUT)
def check_conv_output(answer, size: int = 28, kernel: int = 3) -> CheckResult:
    right = size - kernel + 1
    slips = [
        Slip(
            "the input's own width",
            size,
            "keeping the width would need padding='same'; without padding the window cannot "
            "sit centred on the edge pixels.",
        ),
        Slip(
            f"{size} - {kernel}",
            size - kernel,
            "off by one: count the window's positions, including the first one.",
        ),
        Slip(
            f"{size} - 1",
            size - 1,
            f"the window is {kernel} wide, so it loses more than one position.",
        ),
        Slip(
            f"{right} x {right}, every position in the output",
            right * right,
            "the question asks for the width alone.",
        ),
        Slip(
            f"{right} x {right} x 32, every value of the output",
            right * right * 32,
            "the question asks for the width alone.",
        ),
        Slip(
            f"{size} // {kernel}, windows side by side without overlap",
            size // kernel,
            "the window moves one pixel at a time (stride 1), so the positions overlap.",
        ),
        Slip(
            "the width after the 2x2 max pooling too",
            right // 2,
            "the question asks for the convolution's output alone, before pooling.",
        ),
        Slip(
            f"{size} + {kernel} - 1",
            size + kernel - 1,
            "that would be with the window allowed to hang over the edges; it must fit inside.",
        ),
    ]
    refusals = [
        Refusal(
            lambda a: isinstance(a, tuple) and len(a) >= 2,
            "that is a shape; the answer is the width alone, one number.",
        )
    ]
    return CONV_OUTPUT.judge_number(
        answer,
        right,
        f"{right} x {right}: the window has {right} places to sit along each side.",
        slips,
        whole=True,
        refusals=refusals,
    )


@check(CONV_PARAMS)
def check_conv_params(answer, filters: int = 16, kernel: int = 3, channels: int = 1) -> CheckResult:
    window = kernel * kernel * channels
    weights = window * filters
    right = weights + filters
    slips = [
        Slip(
            f"{kernel} x {kernel} x {filters}, the weights alone",
            weights,
            "each filter also has a bias.",
        ),
        Slip(
            f"{kernel} x {kernel} x {filters} + 1",
            weights + 1,
            f"that gives the whole layer one bias; each of the {filters} filters has its own.",
        ),
        Slip(
            "one filter's parameters",
            window + 1,
            f"there are {filters} filters, each with its own weights and bias.",
        ),
        Slip(
            "one filter's weights",
            window,
            f"there are {filters} filters, and each also has a bias.",
        ),
        Slip(
            f"{kernel} x {kernel} x 3 x {filters} + {filters}, for colour images",
            kernel * kernel * 3 * filters + filters,
            f"that counts three colour channels; these images have {channels}.",
        ),
        Slip(
            f"28 x 28 x {filters}",
            28 * 28 * filters,
            "a filter's weights are shared across the image: they do not grow with its size.",
        ),
        Slip(
            f"{28 - kernel + 1} x {28 - kernel + 1} x {filters}, the output's values",
            (28 - kernel + 1) ** 2 * filters,
            "that counts the values the layer outputs, not the parameters it learns.",
        ),
        Slip(
            f"({kernel} + {kernel}) x {filters} + {filters}",
            (kernel + kernel) * filters + filters,
            f"a {kernel}x{kernel} window has {kernel} times {kernel} cells.",
        ),
    ]
    return CONV_PARAMS.judge_number(
        answer,
        right,
        f"{kernel}x{kernel}x{channels}x{filters} weights + {filters} biases = {number(right)}.",
        slips,
        whole=True,
    )
