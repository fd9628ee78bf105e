"""Cases to tensors, decoded once: transforms, the case cache (memory or disk), frozen features."""
