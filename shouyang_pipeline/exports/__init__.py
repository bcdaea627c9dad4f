"""What the pipeline writes for people: briefings, the analysts' workbook, receipts, templates."""

# How every receipt's file name ends (`receipts.receipt_names`): here, so that what lists the
# receipts (a run's summary) does not import their writer and openpyxl with it.
RECEIPT_SUFFIX = "__回执.xlsx"
