"""The practice console's pages and the practice API (enrollment, demographics, records)."""
