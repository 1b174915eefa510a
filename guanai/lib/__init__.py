"""Pure helpers that do not touch Django: ID numbers, region codes, dates, crypto, text normalisation."""
