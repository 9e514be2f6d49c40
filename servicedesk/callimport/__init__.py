"""Call lists from contact-centre suites (CSV, XLSX) imported as canonical call events."""
