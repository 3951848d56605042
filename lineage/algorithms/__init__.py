"""Training algorithms of the lineage (REINFORCE → Actor-Critic → TRPO → PPO → RLHF-PPO), one readable module per
algorithm that calls lineage's verified building blocks and never re-derives them. Nothing is implemented here
yet; the algorithms issue adds them."""
