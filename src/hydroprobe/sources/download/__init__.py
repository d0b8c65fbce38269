"""Downloaders for the real data sources (CAMELS-GB from the EIDC, Caravan from Zenodo, ERA5-Land
from the CDS), and `transfer`: the HTTP download and safe unpacking they share."""
