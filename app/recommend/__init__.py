"""Recommendations that explain themselves: related products and suggestions for a stay."""
