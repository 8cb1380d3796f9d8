"""From job folders to a sweep's tables and figures: pure functions over files (nothing trains).

jobs.py reads a job folder into memory, tables.py compares jobs, published.py sets a sweep file's
rows beside their published numbers, sweep_report.py writes it all; figures/ draws them."""
