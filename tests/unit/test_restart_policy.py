from app.settings import Settings
from app.stack.supervise import RestartPolicy


def test_the_pause_doubles_up_to_its_bound() -> None:
    policy = RestartPolicy(backoff_s=0.5, backoff_max_s=4, healthy_s=30, crash_limit=5)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_the_policy_comes_from_the_settings() -> None:
    settings = Settings(supervise_backoff_s=0.2, supervise_backoff_max_s=2, supervise_healthy_s=10,
                        supervise_crash_limit=3)
    assert RestartPolicy.from_settings(settings) == RestartPolicy(0.2, 2, 10, 3)
