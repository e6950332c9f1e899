"""Motion metrics, the physics scorer, the pairwise judge and the preference tally.

This package never imports ``curation`` (a metric that judges a curation method must not share its
flow estimator or code path) nor ``bench`` (imports only go down).
"""
