"""Publish numbered messages to a named stream from a process that holds no connections."""

from django.core.management.base import BaseCommand

from sockpuppet.channel import Channel


class Command(BaseCommand):
    help = "Broadcast N numbered text_content operations to Channel(NAME)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("count", type=int)

    def handle(self, name, count, **options):
        for n in range(1, count + 1):
            Channel(name).text_content("#n", str(n)).broadcast()
        self.stdout.write(f"published {count}")
