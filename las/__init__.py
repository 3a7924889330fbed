"""School side (LAS): school data, the Koppelingen screen and the UWLR services a school offers its partners."""
