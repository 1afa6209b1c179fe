"""Reasoning components behind one interface: ``ChatModel.complete(ModelRequest)``."""
