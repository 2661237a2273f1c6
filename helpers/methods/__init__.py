"""Every way to hide behind one interface (base.py, notebook 07): the paper's key mode (notebook 06),
blind mode (notebook 09), and the baselines LSB-1bit, Rehman et al. and HiNet-style (notebooks 07, 08)."""
