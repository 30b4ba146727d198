"""render: rich for people, strict JSON, plain text, SVG figures. rich is imported only where it draws."""

FIGURE_VIEWS = ("zero-insertion", "scatter")  # draw --view; here so that the CLI can list them without the figure code
