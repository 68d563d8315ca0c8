"""The main window: a frame with one tab per screen and a status bar. It owns no logic.

Screens set their own (translated) window title; the tab follows it, so a language change
reaches the tabs through the screens' own ``retranslate``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QToolButton, QWidget

from desk_app.services.model import UserView


class MainWindow(QMainWindow):
    #: the person at the desk asks to sign out (to hand the desk to a colleague): the
    #: composition root logs out and shows the login again
    sign_out_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.tabs = QTabWidget(self)
        self.setCentralWidget(self.tabs)
        self.status_label = QLabel(self)
        self.user_label = QLabel(self)
        self.user_label.setObjectName("SignedInAs")
        self.sign_out = QToolButton(self)
        self.sign_out.setObjectName("SignOut")
        self.sign_out.clicked.connect(self.sign_out_requested)
        self.sign_out.setEnabled(False)
        # Ctrl+L from any screen, like locking a workstation
        self.sign_out_shortcut = QShortcut(QKeySequence("Ctrl+L"), self)
        self.sign_out_shortcut.activated.connect(self._shortcut)
        self.statusBar().addPermanentWidget(self.status_label)
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.sign_out)
        self._user: UserView | None = None
        self.office = False  # the security office window (desk-app run --security-office)
        self.locked = False  # the login is showing: nobody is signed in (set_locked)
        self.resize(1280, 800)
        self.retranslate()

    def _shortcut(self) -> None:
        if self._user is not None:
            self.sign_out_requested.emit()

    def set_user(self, user: UserView | None) -> None:
        """Who is signed in (None: nobody, the login is showing)."""
        self._user = user
        self.sign_out.setEnabled(user is not None)
        self.retranslate()

    def add_screen(self, widget: QWidget) -> None:
        index = self.tabs.addTab(widget, widget.windowTitle())
        widget.windowTitleChanged.connect(
            lambda title, w=widget: self.tabs.setTabText(self.tabs.indexOf(w), title))
        del index

    def set_role_screens(self, visible: frozenset[str] | set[str]) -> None:
        """Show only the screens (by object name) the logged-in role may use."""
        for i in range(self.tabs.count()):
            self.tabs.setTabVisible(i, self.tabs.widget(i).objectName() in visible)

    def set_office_mode(self) -> None:
        """The security office: a window with the security screen only (the login decides who
        may see it)."""
        self.office = True
        self.retranslate()

    def set_locked(self, locked: bool) -> None:
        """While locked (idle or logged out) no screen content is visible."""
        self.locked = locked
        self.tabs.setVisible(not locked)

    def focus_screen(self) -> None:
        """Once the login has closed: the window active and the shown screen (the check-in
        screen for a clerk) holding the keyboard focus, so its keys work at once. Hiding the
        tabs for the lock had moved the focus to the status bar's "Sync now" button."""
        screen = self.tabs.currentWidget()
        if self._user is None or screen is None or self.tabs.isHidden():
            return
        self.activateWindow()
        screen.setFocus(Qt.FocusReason.OtherFocusReason)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Security office") if self.office
                            else self.tr("Real-name check-in"))
        self.sign_out.setText(self.tr("Sign out / switch user (Ctrl+L)"))
        if self._user is None:
            self.user_label.setText("")
        else:
            roles = {"clerk": self.tr("clerk"), "security": self.tr("security"),
                     "admin": self.tr("administrator")}
            self.user_label.setText(self.tr("Signed in: %1 (%2)")
                                    .replace("%1", self._user.display_name or self._user.username)
                                    .replace("%2", roles.get(self._user.role.value,
                                                             self._user.role.value)))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
