"""The Celery worker: each worker process builds the render's models as it starts."""

from celery.signals import worker_process_init

from generation import warmup


def test_each_celery_worker_process_builds_the_render_models_as_it_starts(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "render_models_warm", lambda: calls.append(1))
    worker_process_init.send(sender=None)
    assert calls == [1]


def test_a_failed_warm_up_does_not_stop_the_worker_process(monkeypatch, caplog):
    def broken():
        raise RuntimeError("no models here")

    monkeypatch.setattr(warmup, "render_models_warm", broken)
    worker_process_init.send(sender=None)  # raises nothing
    assert "Render models were not built" in caplog.text
