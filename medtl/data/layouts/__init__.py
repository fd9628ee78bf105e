"""The dataset layouts a scan reads: class folders, CSV manifests, MSD, unlabelled folders."""
