// /device?code=XXXXXXXX (the verification URL the server shows on TVs) -> /#/device?code=XXXXXXXX
location.replace('/#/device' + (location.search || ''));
