"""关爱 (guanai): care services for left-behind children and children in difficulty (渝民发〔2024〕2号)."""

__version__ = "0.1.0"
