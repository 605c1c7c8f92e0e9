"""Indicators (数据): the figures the reports carry, each with the sentence that states it."""
from service.indicators.catalogue import CATALOGUE, Indicator, indicator_named
from service.indicators.extract import Figure, extract_figures, figures_of

__all__ = ["CATALOGUE", "Figure", "Indicator", "extract_figures", "figures_of", "indicator_named"]
