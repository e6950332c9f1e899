"""Package data of the synthetic world: ``test_prompts.json`` (the 50 pinned test prompts)."""
