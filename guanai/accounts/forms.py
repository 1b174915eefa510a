"""Forms of the account pages; the rules (levels, jurisdiction, password strength) stay in the services."""

from __future__ import annotations

from django import forms

from guanai.accounts import roles

ROLE_CHOICES = [(code, role.label) for code, role in roles.matrix().roles.items()]
REGION_HELP = "行政区划代码：村（社区）12位，乡镇（街道）9位，区县6位，全市填50。"


class AccountForm(forms.Form):
    display_name = forms.CharField(label="姓名", max_length=50, required=False)
    organisation = forms.CharField(label="单位", max_length=100, required=False)
    role = forms.ChoiceField(label="角色", choices=ROLE_CHOICES)
    region_code = forms.CharField(label="管辖区域（区划代码）", max_length=12, help_text=REGION_HELP)


class NewAccountForm(AccountForm):
    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+$",
        error_messages={"invalid": "用户名只能包含字母、数字和 _ . @ + -"},
        help_text="登录时使用，建议用姓名拼音，如 lichunmei。",
    )
    password = forms.CharField(
        label="初始密码", widget=forms.PasswordInput(render_value=True), help_text="至少10位，请当面或电话告知本人。"
    )
    field_order = ["username", "display_name", "organisation", "role", "region_code", "password"]


class PasswordForm(forms.Form):
    password = forms.CharField(label="新密码", widget=forms.PasswordInput, help_text="至少10位。")
