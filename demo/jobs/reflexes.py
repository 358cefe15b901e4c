from demo.jobs import runner
from sockpuppet import Channel, Reflex


class JobReflex(Reflex):
    def start(self) -> None:
        """Show the job as queued, then start it; the job itself reports every step.

        The queued state goes out on the session's stream, the one the job broadcasts on,
        so it can never land after the job's first update (a reflex answer travels on the
        connection's own stream, with no order relative to the session's).
        """
        channel = Channel.for_session(self.session)
        channel.set_attribute("#job", "data-state", "running")
        channel.set_attribute("#job-start", "disabled", "")
        channel.set_attribute("#job-progress", "value", "0")
        channel.text_content("#job-label", "Queued…" if runner.uses_celery() else "Starting…")
        channel.broadcast()
        runner.start(self.session.session_key)
        self.morph_nothing()
