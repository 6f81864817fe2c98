"""Colours and marks shared by the figures and the widgets.

Right and wrong are never told by colour alone: the Okabe-Ito palette (safe for the
common colour-vision deficiencies) and a symbol or word as well.
"""

RIGHT = "#0072B2"  # blue: the prediction, when it is right
WRONG = "#D55E00"  # vermillion: the prediction, when it is wrong
TRUE = "#009E73"  # bluish green: the true digit, when the prediction missed it
OTHER = "#BBBBBB"  # grey: every other digit
RIGHT_MARK = "✓"
WRONG_MARK = "✗"
READING = "#333333"  # dark grey: the reading of a drawing, which has no true label
READING_MARK = "read"  # not ✓: nobody knows yet whether a drawing's reading is right
