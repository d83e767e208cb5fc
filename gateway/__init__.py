"""gateway: keeps an ERP and a WMS in step through files (CSV, XML, SAP IDoc, UN/EDIFACT)."""

__version__ = "0.1.0"
