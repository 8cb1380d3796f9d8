"""report.html: a sweep's tables, figures and jobs on one self-contained page (lenet_lab.reports.html.report)."""
