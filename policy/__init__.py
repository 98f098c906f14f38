"""The secretless-aks policy pack: a CrossGuard pack (`pulumi preview --policy-pack policy`)
whose rules (`policy/secretless_policy`) also run offline (`python -m policy.check`)."""
