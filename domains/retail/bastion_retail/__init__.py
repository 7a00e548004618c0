"""The retail reference domain (tau2-bench retail), declared on Bastion as a product team would."""
