from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "guanai.accounts"
    verbose_name = "账号"

    def ready(self) -> None:
        from guanai.accounts import roles

        roles.matrix()  # fail at start-up, not at first login, if the permission matrix is malformed
