"""Downloaders for the real data sources (CAMELS-GB from the EIDC, ERA5-Land from the CDS)."""
