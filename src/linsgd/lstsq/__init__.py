"""Exact least squares: the streamed QR (qr.py), its solution, the design checks and the statistics."""
