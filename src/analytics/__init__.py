"""Creator Analytics Workbook."""
