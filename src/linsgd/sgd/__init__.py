"""Minibatch SGD: what ``fit`` decides (fit.py), the epoch loop (loop.py), learning rates (lr.py), segments."""
