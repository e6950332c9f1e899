"""motive-bench harness: CLI, config, run directories, the synthetic world, model backends,
fine-tuning, generation, reports and the preference-study app.

Layering (imports only go down): ``bench`` may import ``evaluators`` and ``curation``;
``evaluators`` never imports ``curation`` or ``bench``; ``curation`` imports neither.
"""

__version__ = "0.1.0"
