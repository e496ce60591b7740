package accounts

import "testing"

// TestRealNames: Chinese names, transliterated names with the middle dot, Latin names with accents
// and spaces are accepted; emoji (王🌸芳 printed a box), digits, symbols, control characters, leading,
// trailing or doubled separators are refused.
func TestRealNames(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"王芳", "欧阳娜娜", "阿依古丽·买买提", "迪丽热巴・迪力木拉提", "Anna Müller", "José María García", "Nguyễn Thị Hoa", "Zoë"} {
		if !validName(ok) {
			t.Errorf("refused %q", ok)
		}
	}
	for _, bad := range []string{"王🌸芳", "王芳😀", "张\u0000三", "李\t四", "李\u200b四", "王芳1", "王<芳>", "·王芳", "王芳·", "王··芳", "Anna  Müller", " 王芳",
		"王", "王芳!", "王\u202e芳", "王\ufe0f芳"} {
		if validName(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}
