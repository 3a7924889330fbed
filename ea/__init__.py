"""Application side (EA): "Koppelen met LAS", service-desk approval, the import wizard and the nightly sync."""
