package server

import "shanyu/app"

// AppOptions are the wiring's words from the server's locales: the inspection reports' labels and
// the notifications' text, which app.Build requires.
func AppOptions() (app.Options, error) {
	labels, err := ReportLabels()
	if err != nil {
		return app.Options{}, err
	}
	text, err := NoticeText()
	if err != nil {
		return app.Options{}, err
	}
	return app.Options{ReportLabels: labels, NoticeText: text}, nil
}
