"""The review web app for TIPs, trainers and admins (``bwv serve``)."""
