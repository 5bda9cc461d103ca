"""Input formats: one module per format, each a :class:`~linsgd.data.formats.base.Source`, and the registry
that picks one (:func:`linsgd.data.formats.registry.open_source`); ``arrow.py`` turns any Arrow column into
float64, ``write.py`` writes predictions and generated data."""
