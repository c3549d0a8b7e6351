from django.core.management.base import BaseCommand, CommandError

from credits.selectors import ledger_audit


class Command(BaseCommand):
    help = "Check the credit ledger: every transaction balances, every cached balance is right."

    def handle(self, *args, **options) -> None:
        report = ledger_audit()
        if not report.clean:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"Ledger audit failed: {len(report.problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger clean: {report.transactions} transactions, {report.accounts} accounts."
            )
        )
