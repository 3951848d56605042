"""TabularEnv refuses terminal states outside its MDP (collection laws: properties/test_rollout_collection.py)."""

import pytest

from lineage.tabular import TabularMDP
from lineage.tabular.env import TabularEnv


def test_terminal_states_outside_the_mdp_are_refused():
    mdp = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    with pytest.raises(ValueError, match="terminal_states"):
        TabularEnv(mdp, terminal_states=(1,))
