"""envoywatch: monitor how states speak abroad on social media, and who amplifies them."""

__version__ = "0.1.0"
