"""The network's shared picture: figures pooled across the organisations that share a form.

Facts are kept for the forms their organisations share (``facts``, made in batches from the
stored submissions; ``counting`` says who counts once), counted into cross-tables (``figures``),
and pass through the one suppression function (``suppression``)
before anything shows them: pages, charts, workbooks, the command line and published snapshots
all take a ``ShownTable``, which holds no hidden count. ``table`` holds the shapes they share.
"""
