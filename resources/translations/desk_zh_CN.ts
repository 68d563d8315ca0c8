<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutScreen</name>
    <message>
        <location filename="../../ui/about/screen.py" line="23" />
        <source>About</source>
        <translation>关于</translation>
    </message>
    <message>
        <location filename="../../ui/about/screen.py" line="24" />
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../../ui/about/screen.py" line="25" />
        <source>Data folder</source>
        <translation>数据目录</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/shell/main_window.py" line="31" />
        <source>Real-name check-in</source>
        <translation>实名就诊核验</translation>
    </message>
</context>
</TS>