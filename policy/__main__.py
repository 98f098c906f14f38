"""The secretless-aks CrossGuard policy pack: `pulumi preview --policy-pack policy`.

Pulumi runs this folder as a script (`python -m pulumi.policy`, which runpy-runs it), so
`secretless_policy` imports here as a top-level package. The rules, their levels and their
messages are secretless_policy's; this file only assembles the pack.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from secretless_policy import RULES
from secretless_policy.crossguard import keep_markers, policies

keep_markers()
# The pack's default level; each policy carries its rule's own (some are advisory).
PolicyPack(
    name="secretless-aks",
    policies=policies(RULES),
    enforcement_level=EnforcementLevel.MANDATORY,
)
