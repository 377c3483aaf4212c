"""The review web app for TIPs and trainers (served by `bwv serve`; built on the pipeline library)."""
