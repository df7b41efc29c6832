"""The sample shop: six tables that hold every common field type, used by the demo and the benchmark."""
