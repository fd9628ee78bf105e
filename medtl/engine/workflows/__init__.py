"""One module per verb (cv, train, predict, explain, pretrain, lr-find, sweep), each owning a run folder."""
